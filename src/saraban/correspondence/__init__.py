"""Official letters (หนังสือราชการ): their types, content, validation and lifecycle."""
