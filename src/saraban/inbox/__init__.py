"""The inbox: letters received, registered, endorsed (เกษียน), assigned and acted on."""
