"""The engine: the network and the lecture's mathematics, the data and the file formats.

Pure NumPy: no web, no threads, nothing that knows a session exists. Every layer above imports it.
"""
