"""pynomaly-io: Parquet, Arrow IPC / Feather, HDF5 and SQL loaders for pynomaly, each able to read in batches."""

__version__ = "0.1.0"
