"""Print every derivation of the `variants` family step by step (`--latex` for LaTeX)."""
import sys

from dropout_theory.report import print_family

if __name__ == "__main__":
    print_family("variants", sys.argv[1:])
