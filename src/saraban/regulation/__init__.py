"""The Correspondence Regulation's vocabulary (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ), free of the database.

Letter types and sub-types, urgency and secrecy levels (``kinds``), what a letter says
(``content.LetterContent``, the letter-code and number formats) and the rules per type (``checks``).
A plain package, not a Django app: every layer may import it, and it imports only ``saraban.core``.
"""
