"""Files: content-addressed storage of PDFs, scans and attachments."""
