"""Reference network core: the implementation Monte Carlo routes push masks through.

Layers keep ``forward``/``backward`` side by side, follow ``torch.nn`` semantics where PyTorch
has the layer, accept injected masks (``mask=``) and a ``numpy.random.Generator`` (``rng=``),
and broadcast over a leading sample axis so S mask draws are one batched computation.
"""
from .batched import ReplicaLinear
from .batchnorm import BatchNorm1d
from .concrete import ConcreteRegularizer
from .dropout import Dropout, bernoulli_mask
from .gradcheck import GradcheckResult, check_gradients, fd_step, rounding_bound
from .layers import (SELU, SELU_ALPHA, SELU_SCALE, Linear, Quadratic, ReLU, Sequential, Sigmoid,
                     Softmax, Softplus, Tanh)
from .losses import CrossEntropyLoss, MSELoss
from .module import Module
from .recurrent import DropoutRNN
from .training import (SGD, IterateAverage, exponential_schedule, fit, leaf_modules,
                       mc_dropout_predict, step_schedule)
from .variants import (ALPHA_PRIME, AlphaDropout, ConcreteDropout, DropBlock, GaussianDropout,
                       NoiseLayer, SpatialDropout, StandardDropout, UOut, dropblock_gamma)
from .weights import DropConnect, TargetedDropout, max_norm

__all__ = [
    "Module", "Sequential", "Linear", "ReLU", "Sigmoid", "Tanh", "Softplus", "SELU", "Quadratic",
    "Softmax", "SELU_ALPHA", "SELU_SCALE", "CrossEntropyLoss", "MSELoss",
    "Dropout", "bernoulli_mask", "StandardDropout", "SpatialDropout", "GaussianDropout",
    "AlphaDropout", "ALPHA_PRIME", "DropBlock", "dropblock_gamma", "ConcreteDropout",
    "ConcreteRegularizer", "NoiseLayer",
    "UOut",
    "DropConnect", "TargetedDropout", "max_norm", "ReplicaLinear", "DropoutRNN", "BatchNorm1d",
    "SGD", "IterateAverage", "step_schedule", "exponential_schedule", "fit",
    "mc_dropout_predict", "leaf_modules",
    "check_gradients", "GradcheckResult", "fd_step", "rounding_bound",
]
