"""Datasets: one module per idea.

``base.py`` the Dataset container and how stored inputs become floats; ``options.py`` a dataset's
options and their checks; ``idx.py`` the IDX file format; ``images.py`` MNIST and Fashion-MNIST;
``plane.py`` the generated 2-D datasets; ``custom.py`` the user's own points; ``simple.py`` the lecture
notes' one-example, one-input dataset (a network of one neuron per layer); ``registry.py`` every
dataset by name, described for the protocol.
"""

from .base import PLANE_EXTENT, DataError, Dataset, as_inputs

__all__ = ["PLANE_EXTENT", "DataError", "Dataset", "as_inputs"]
