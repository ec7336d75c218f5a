"""Element ids: a public contract for tests and embedding pages. Every id is defined here, once.

Ids are kebab-case ``<page or thing>-<purpose>``; repeated widgets use dict ids whose
``type`` is defined here (``{"type": IRIS_PROBE, "index": i}``).
"""

# layout
URL = "url"
PAGE = "page-content"
NAVBAR = "navbar"
NAVBAR_TOGGLER = "navbar-toggler"
NAVBAR_COLLAPSE = "navbar-collapse"
ERROR = "app-error"
"""The error banner a callback that raised shows (never expected: callbacks validate their input)."""

# / overview
OVERVIEW_TABLE = "overview-table"

# /iris
IRIS_MAP = "iris-map"
IRIS_RESULT = "iris-result"
IRIS_OVERLAYS = "iris-overlays"
IRIS_VIEW = "iris-view"
IRIS_PROBE = "iris-probe"  # dict id {"type": IRIS_PROBE, "index": i}, one button per probe
IRIS_ACCURACY = "iris-accuracy"
IRIS_POINT = "iris-point"  # dcc.Store: {"point": [x, y]} of the inspected point

# /svm
SVM_LINEAR_MAP = "svm-linear-map"
SVM_RBF_MAP = "svm-rbf-map"
SVM_RESULT = "svm-result"
SVM_POINT = "svm-point"  # dcc.Store: {"point": [x, y]} of the inspected point

# /mnist
MNIST_NETWORK = "mnist-network"
MNIST_MAP = "mnist-map"
MNIST_RBF_MAP = "mnist-rbf-map"
MNIST_IMAGE = "mnist-image"
MNIST_RESULT = "mnist-result"
MNIST_VALID = "mnist-valid"
MNIST_LOSS = "mnist-loss"
MNIST_SAMPLES = "mnist-samples"
MNIST_HEAD = "mnist-head"
MNIST_NULL = "mnist-null"
MNIST_NULL_RESULT = "mnist-null-result"
MNIST_DENSITY = "mnist-density"
MNIST_PRESET = "mnist-preset"  # dict id {"type": MNIST_PRESET, "index": k}: the far point of class k
MNIST_HOVER = "mnist-hover"  # the live preview's line: "<digit> (<confidence>%) at (x, y)"
MNIST_HOVER_IMAGE = "mnist-hover-image"  # canvas: the previewed image, over the pinned one
MNIST_HOVER_DATA = "mnist-hover-data"  # dcc.Store: per network, what the browser previews with
MNIST_POINT = "mnist-point"  # dcc.Store: {"network", "point": [x, y], "nearest": [x, y] or None} pinned

# /neurons
NEURONS_LAYER = "neurons-layer"
NEURONS_UNIT = "neurons-unit"
NEURONS_EFFECTIVE = "neurons-effective"
NEURONS_AVERAGE = "neurons-average"
NEURONS_NOTE = "neurons-note"
NEURONS_SPARSITY = "neurons-sparsity"
NEURONS_SPARSITY_NOTE = "neurons-sparsity-note"
ATTACK_SOURCE = "attack-source"
ATTACK_TARGET = "attack-target"
ATTACK_STRENGTH = "attack-strength"
ATTACK_CLIP = "attack-clip"
ATTACK_IMAGE = "attack-image"
ATTACK_CURVE = "attack-curve"
ATTACK_RESULT = "attack-result"

# /compare
COMPARE_TABLE = "compare-table"
COMPARE_TABLE_BOX = "compare-table-box"
COMPARE_TEXT = "compare-text"
COMPARE_CURVES = "compare-curves"
COMPARE_CURVES_NOTE = "compare-curves-note"
COMPARE_DENSITY = "compare-density"
COMPARE_DENSITY_NOTE = "compare-density-note"
COMPARE_MODEL = "compare-model"
COMPARE_VIEW = "compare-view"
COMPARE_LOAD = "compare-load"

# /ood
OOD_METRIC = "ood-metric"  # radio: which OpenOOD metric the table shows
OOD_METRIC_MESSAGE = "ood-metric-message"
OOD_TABLE_BOX = "ood-table-box"  # holds OOD_TABLE and its legend
OOD_TABLE = "ood-table"  # networks x scores x sets, near and far columns apart
OOD_MMC_TABLE = "ood-mmc-table"  # mean max probability per network and set
OOD_HIGHLIGHTS = "ood-highlights"
OOD_NETWORK = "ood-network"  # radio: whose answers the example tiles carry
OOD_NETWORK_MESSAGE = "ood-network-message"
OOD_EXAMPLES = "ood-examples"
OOD_RAY_VALUE = "ood-ray-value"  # radio: mean top probability or share of confident digits
OOD_RAY_MESSAGE = "ood-ray-message"
OOD_RAYS = "ood-rays"
OOD_RAYS_TABLE = "ood-rays-table"  # per model: the ray's first and last values
OOD_RAYS_NOTE = "ood-rays-note"
OOD_FGSM_TABLE = "ood-fgsm-table"
OOD_FGSM_NOTE = "ood-fgsm-note"
