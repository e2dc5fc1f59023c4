"""A realistic Thai demo deployment: organisations, people of every role, letters in every state."""
