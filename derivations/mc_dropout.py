"""Print every derivation of the `mc-dropout` family step by step (`--latex` for LaTeX)."""
import sys

from dropout_theory.report import print_family

if __name__ == "__main__":
    print_family("mc-dropout", sys.argv[1:])
