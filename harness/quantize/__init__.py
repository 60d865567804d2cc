"""`tinyperf quantize`: build quantized / compressed variants of a trained Keras model and measure
size, accuracy and speed of each one the same way `tinyperf run` measures a model.

Split so that the benchmarking process never imports TensorFlow:
- recipes.py   what each variant is (names, descriptions, notes); no TensorFlow
- sources.py   where the Keras model is and which samples calibrate; no TensorFlow
- build.py     the TensorFlow subprocess (`python -m tinyperf.quantize.build`) that writes the variants
- builder.py   runs that subprocess with progress and reads back the variant records
- inspect.py   weight statistics (sparsity, distinct values) of a .tflite, read with LiteRT
- evaluate.py  accuracy and performance of each variant as ordinary run directories
- table.py     the comparison table (quantize.csv / .parquet and the terminal table)
- pipeline.py  the whole command, in order
"""
