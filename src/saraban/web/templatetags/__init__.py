"""Template tags of Saraban's web interface."""
