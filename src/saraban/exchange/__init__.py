"""Exchange: sending letters to other organisations and tracking each recipient's status."""
