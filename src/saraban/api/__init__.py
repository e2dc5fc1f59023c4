"""The REST API under ``/api/`` (django-ninja): letters, the workflow, inbox, registers, directory, tokens."""
