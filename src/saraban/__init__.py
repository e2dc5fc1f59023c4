"""Saraban: an e-Document system (ระบบสารบรรณอิเล็กทรอนิกส์) for Thai government agencies."""

__version__ = "0.1.0"
