from django.apps import AppConfig


class OcrConfig(AppConfig):
    name = "saraban.ocr"
    label = "ocr"
    verbose_name = "อ่านข้อความจากภาพสแกน / OCR"
