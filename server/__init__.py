"""Backprop Lab: watch a from-scratch NumPy network learn MNIST."""

__version__ = "0.1.0"
