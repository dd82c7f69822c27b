"""Print every derivation of the `ensemble` family step by step (`--latex` for LaTeX)."""
import sys

from dropout_theory.report import print_family

if __name__ == "__main__":
    print_family("ensemble", sys.argv[1:])
