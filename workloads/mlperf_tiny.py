"""The four MLPerf Tiny closed-division workloads (see shared spec: workloads and rules).

Registered in the `tinyperf.workloads` entry-point group (pyproject.toml), as a third-party
workload would be.
"""

from __future__ import annotations

from tinyperf.workloads.scoring import AUC, TOP1
from tinyperf.workloads.spec import InputEncoding, Workload

KWS01 = Workload(
    id="kws01",
    task="keyword spotting (Speech Commands v2, 12 classes)",
    labels=("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown"),
    input_shape=(1, 49, 10, 1),
    output_shape=(1, 12),
    # the .bin files hold the MFCCs already quantized with the reference model's input parameters
    encoding=InputEncoding(dtype="int8", scale=0.5847029089927673, offset=83),
    sample_bytes=490,
    scoring=TOP1,
    quality_target=90.0,
    reference_model="kws_ref_model.tflite",
    reference_float_model="kws_ref_model_float32.tflite",
    default_n=70,
    default_warmup=10,
    published={"top1": 90.1, "latency_ms": 181.9},
    architecture="DS-CNN small",
)

VWW01 = Workload(
    id="vww01",
    task="visual wake words (person / no person, COCO 2014)",
    labels=("no person", "person"),
    input_shape=(1, 96, 96, 3),
    output_shape=(1, 2),
    encoding=InputEncoding(dtype="uint8", scale=1.0 / 255.0, offset=0),
    sample_bytes=27648,
    scoring=TOP1,
    quality_target=80.0,
    reference_model="vww_96_int8.tflite",
    reference_float_model="vww_96_float.tflite",
    default_n=20,
    default_warmup=5,
    published={"top1": 85.4, "latency_ms": 600.6},
    architecture="MobileNetV1 alpha 0.25, 96x96",
)

IC01 = Workload(
    id="ic01",
    task="image classification (CIFAR-10)",
    labels=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    input_shape=(1, 32, 32, 3),
    output_shape=(1, 10),
    encoding=InputEncoding(dtype="uint8", scale=1.0, offset=0),
    sample_bytes=3072,
    scoring=TOP1,
    quality_target=85.0,
    reference_model="pretrainedResnet_quant.tflite",
    reference_float_model="pretrainedResnet.tflite",
    default_n=20,
    default_warmup=5,
    published={"top1": 86.5, "latency_ms": 704.2},
    architecture="ResNet-8",
)

AD01 = Workload(
    id="ad01",
    task="anomaly detection (ToyADMOS ToyCar, DCASE 2020 task 2)",
    labels=("normal", "anomaly"),
    input_shape=(1, 640),
    output_shape=(1, 640),
    encoding=InputEncoding(dtype="<f4"),
    sample_bytes=102400,
    scoring=AUC,
    quality_target=0.85,
    reference_model="ad01_int8.tflite",
    reference_float_model="ad01_fp32.tflite",
    default_n=1500,
    default_warmup=10,
    window_bytes=2560,
    stride_bytes=512,
    published={"auc": 0.86, "latency_ms": 10.05},
    architecture="fully connected autoencoder 640-128-128-128-128-8-128-128-128-128-640",
)

#: their order in every table and run (other workloads follow, by name)
REFERENCE = (KWS01, VWW01, IC01, AD01)
