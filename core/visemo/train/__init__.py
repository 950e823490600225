"""Dataset synthesis and training (torch at build time; never imported at run time)."""
