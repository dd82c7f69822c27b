"""Concrete dropout's regularizer: its gradients, and the learned p moving as Gal et al. say."""
import numpy as np
import pytest
from scipy import stats

from dropout_theory.network import (ConcreteDropout, ConcreteRegularizer, Linear, MSELoss, SGD,
                                    Sequential, check_gradients, rounding_bound)
from dropout_theory.sampling import generator


def _regularizer(p=0.3, weight_regularizer=0.7, dropout_regularizer=0.4):
    return ConcreteRegularizer(ConcreteDropout(p=p), weight_regularizer=weight_regularizer,
                               dropout_regularizer=dropout_regularizer)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.8])
def test_regularizer_gradients_match_central_differences(p):
    rng = np.random.default_rng(3)
    results = check_gradients(_regularizer(p), rng.normal(size=(3, 5)), rng=rng,
                              grad_out=np.array(1.3))
    assert all(r.ok for r in results), [(r.name, r.worst_ratio) for r in results]


def test_regularizer_value_and_shared_parameter():
    reg = _regularizer(p=0.25, weight_regularizer=2.0, dropout_regularizer=3.0)
    w = np.array([[1.0, -2.0]])
    entropy = 0.25 * np.log(0.25) + 0.75 * np.log(0.75)
    # p = sigmoid(logit(0.25)) is 0.25 up to a few roundings; terms of size <= 14
    bound = rounding_bound(2.0 * 5.0 / 0.75 + 3.0 * 2 * abs(entropy), n_ops=24)
    assert abs(reg.forward(w) - (2.0 * 5.0 / 0.75 + 3.0 * 2 * entropy)) <= bound
    reg.dropout.p = 0.5  # the setter replaces the array; the regularizer follows it
    assert abs(reg.forward(w) - (2.0 * 5.0 / 0.5 + 3.0 * 2 * np.log(0.5))) <= bound
    assert reg.params["p_logit"] is reg.dropout.params["p_logit"]
    with pytest.raises(ValueError, match="dropout must be a ConcreteDropout"):
        ConcreteRegularizer(Linear(2, 1), weight_regularizer=1.0, dropout_regularizer=1.0)


def test_entropy_term_alone_pulls_p_to_one_half():
    """No data and no weight term: gradient descent on p_logit climbs to p = 1/2 (the
    negative entropy's minimum), from either side; deterministic."""
    for start in (0.05, 0.9):
        reg = _regularizer(p=start, weight_regularizer=0.0, dropout_regularizer=1.0)
        w = np.ones((1, 4))
        for _ in range(400):
            reg.forward(w)
            reg.backward(1.0)
            reg.params["p_logit"] -= 0.5 * reg.grads["p_logit"]
        # geometric convergence (the step halves logit(p) near 1/2): 400 steps reach rounding
        assert abs(reg.dropout.p - 0.5) <= rounding_bound(0.5, n_ops=16)


def _learned_p(n_data, key, steps=1500, length_scale=1.0):
    """Train ConcreteDropout -> Linear on y = X w* + noise (w* ~ N(0, 0.3^2), unit noise)
    with Gal et al.'s regularizer weights l^2 / N and 2 / N; the final p."""
    data = generator(20261129, "concrete-data", 0)  # one data set; N takes its first rows
    x = data.normal(size=(4096, 6))
    y = (x @ (0.3 * data.normal(size=(6, 1))) + data.normal(size=(4096, 1)))[:n_data]
    x, d = x[:n_data], 6
    rng = generator(20261129, key, n_data)  # the training's own randomness
    dropout, linear = ConcreteDropout(p=0.3, temperature=0.1), Linear(d, 1, rng=rng)
    net, loss = Sequential(dropout, linear), MSELoss()
    reg = ConcreteRegularizer(dropout, weight_regularizer=length_scale ** 2 / n_data,
                              dropout_regularizer=2.0 / n_data)
    opt = SGD(net, lr=0.05)
    for _ in range(steps):
        rows = rng.choice(n_data, size=min(32, n_data), replace=False)
        out = net.forward(x[rows], rng=rng)
        loss.forward(out, y[rows])
        net.backward(loss.backward())
        reg.forward(linear.weight)
        linear.grads["weight"] += reg.backward(1.0)
        dropout.grads["p_logit"] = dropout.grads["p_logit"] + reg.grads["p_logit"]
        opt.step()
    return dropout.p


def test_learned_p_drops_with_more_data():
    """Gal, Hron & Kendall 2017: the regularizer weighs 1/N, so with more data the
    data term wins and the learned drop probability falls. One-sided Welch t-test of
    p(N = 16) - p(N = 4096) > 0 over 12 independent trainings each (masks, minibatches and
    initial weights independent; the 16 points are the first rows of the 4096), at
    false-alarm rate 1e-6 (a true difference <= 0 passes with probability <= 1e-6). Measured
    when written: p about 0.30 at N = 16 against 0.025 at N = 4096, from p = 0.3."""
    few = np.array([_learned_p(16, f"few#{k}") for k in range(12)])
    many = np.array([_learned_p(4096, f"many#{k}") for k in range(12)])
    se = np.sqrt(few.var(ddof=1) / few.size + many.var(ddof=1) / many.size)
    df = se ** 4 / ((few.var(ddof=1) / few.size) ** 2 / (few.size - 1)
                    + (many.var(ddof=1) / many.size) ** 2 / (many.size - 1))
    critical = stats.t.ppf(1 - 1e-6, df)
    assert (few.mean() - many.mean()) / se > critical, (few, many, critical)
