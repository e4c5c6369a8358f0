"""Training of the learned upscaling core (``manage.py engine_train``).

Needs the optional ``train`` extra (PyTorch, ONNX); the site itself only needs onnxruntime and
the ONNX files this package writes to ``enhancer/engine/weights/``.
"""
