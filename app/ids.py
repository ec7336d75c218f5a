"""Element ids: a public contract for tests and embedding pages. Defined once, here."""

# layout
URL = "url"
PAGE = "page-content"
NAVBAR = "navbar"

# /iris
IRIS_MAP = "iris-map"
IRIS_RESULT = "iris-result"
IRIS_OVERLAYS = "iris-overlays"
IRIS_VIEW = "iris-view"
IRIS_PROBE = "iris-probe"  # dict id {"type": IRIS_PROBE, "index": i}, one button per probe

# /svm
SVM_LINEAR_MAP = "svm-linear-map"
SVM_RBF_MAP = "svm-rbf-map"
SVM_RESULT = "svm-result"

# /mnist
MNIST_NETWORK = "mnist-network"
MNIST_MAP = "mnist-map"
MNIST_IMAGE = "mnist-image"
MNIST_RESULT = "mnist-result"
MNIST_VALID = "mnist-valid"
MNIST_LOSS = "mnist-loss"
MNIST_SAMPLES = "mnist-samples"

# /neurons
NEURONS_LAYER = "neurons-layer"
NEURONS_UNIT = "neurons-unit"
NEURONS_EFFECTIVE = "neurons-effective"
NEURONS_AVERAGE = "neurons-average"
NEURONS_SPARSITY = "neurons-sparsity"
ATTACK_SOURCE = "attack-source"
ATTACK_TARGET = "attack-target"
ATTACK_STRENGTH = "attack-strength"
ATTACK_CLIP = "attack-clip"
ATTACK_IMAGE = "attack-image"
ATTACK_CURVE = "attack-curve"
ATTACK_RESULT = "attack-result"

# / overview
OVERVIEW_TABLE = "overview-table"

# /compare
COMPARE_TABLE = "compare-table"
COMPARE_CURVES = "compare-curves"
COMPARE_DENSITY = "compare-density"
COMPARE_MODEL = "compare-model"

# /mnist, remedies
MNIST_HEAD = "mnist-head"
MNIST_RBF_MAP = "mnist-rbf-map"
MNIST_NULL = "mnist-null"
MNIST_DENSITY = "mnist-density"
