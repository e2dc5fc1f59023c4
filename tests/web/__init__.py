"""Tests of the web pages (Django test client)."""
