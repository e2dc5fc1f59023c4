"""Registers (ทะเบียนหนังสือ): the books that number letters sent and received."""
