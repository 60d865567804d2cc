"""MLPerf Tiny workloads as data: specs, the EnergyRunner dataset reader and scoring."""

if __name__ != "tinyperf.workloads":  # e.g. `import workloads` from the repository root
    raise ImportError("this folder is the `tinyperf.workloads` package: `pip install -e .`, then `import tinyperf.workloads`")


from tinyperf.workloads.catalog import AD01, IC01, KWS01, VWW01, WORKLOADS, get_workload
from tinyperf.workloads.dataset import Dataset, Item, Sample
from tinyperf.workloads.scoring import roc_auc, top1_percent
from tinyperf.workloads.spec import InputEncoding, Workload

__all__ = [
    "AD01", "IC01", "KWS01", "VWW01", "WORKLOADS", "get_workload",
    "Dataset", "Item", "Sample", "roc_auc", "top1_percent", "InputEncoding", "Workload",
]
