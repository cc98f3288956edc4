"""GFI-boten: GFI-förfrågningar, fördelning, ansvarstrappa och påminnelser."""

__version__ = "0.1.0"
