"""The directory: organisations, people, their roles and acting appointments."""
