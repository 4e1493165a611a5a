"""Forms, numbering, records, registers and retention."""
