"""Thai OCR of scans (การอ่านข้อความจากภาพสแกน): paper letters and image-only enclosures made searchable.

A scan is read once per file (by its SHA-256) in the background, by Tesseract's Thai model through
OCRmyPDF. The result is a PDF/A-2b with a text layer, kept beside the original, and the text for search.
"""
