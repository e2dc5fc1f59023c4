"""Thai PDF rendering of official letters and registers, with Typst.

``saraban.rendering.letters.render_letter`` draws a ``LetterContent`` as a PDF/A letter laid out
as the Correspondence Regulation prescribes; ``saraban.rendering.registers.render_register``
draws a send or receive register. Neither touches the database.
"""
