"""Pieces shared by every app: Thai calendar and digits, bilingual errors."""
