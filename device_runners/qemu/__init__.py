"""A virtual microcontroller board: TFLM firmware built for an emulated Cortex-M, run under QEMU."""
