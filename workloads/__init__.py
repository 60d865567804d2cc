"""MLPerf Tiny workloads as data: specs, the EnergyRunner dataset reader and scoring."""

from workloads.catalog import AD01, IC01, KWS01, VWW01, WORKLOADS, get_workload
from workloads.dataset import Dataset, Item, Sample
from workloads.scoring import roc_auc, top1_percent
from workloads.spec import InputEncoding, Workload

__all__ = [
    "AD01", "IC01", "KWS01", "VWW01", "WORKLOADS", "get_workload",
    "Dataset", "Item", "Sample", "roc_auc", "top1_percent", "InputEncoding", "Workload",
]
