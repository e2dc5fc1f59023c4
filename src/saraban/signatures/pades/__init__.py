"""PAdES signatures: key sources, signing, verification and the visible stamp.

- ``keys``: ``Pkcs12Key``, ``Pkcs11Key``, ``OrganisationSeal`` (one ``KeySource`` interface).
- ``sign``: ``sign_pdf`` and the batch session ``PadesSigner`` (B-B, B-T, B-LT, B-LTA).
- ``verify``: ``verify_pdf`` → ``Report`` in the ETSI EN 319 102-1 vocabulary, explained in Thai.
- ``appearance``: the stamp in the letter's signature block, with a QR code to ``/verify``.
"""
