"""Pure logic of napari-labelsuite: numpy, scipy, scikit-image, zarr and dask only.

Nothing in this package imports napari or Qt, so it runs headless, in batch jobs and in
workers.
"""
