"""The course's "planar data classification with one hidden layer", step by step, with shallownet_fast.

Run it with ``python examples/course_walkthrough.py`` (add ``--reference`` for
the NumPy implementation, which gives the same numbers, slower).  It follows
the notebook: the flower data set, the layer sizes, the initialisation, one
forward pass, the cost, the backward pass, one update, the full training with
nn_model, the predictions and their accuracy, and the hidden-layer-size
experiment.  Everything is printed; nothing is drawn (for the pictures, see
``shallownet-fast demo --plot`` and ``shallownet-fast sweep --plot``).
"""

import sys
import time

import numpy as np

from shallownet_fast import datasets, fast, reference


def main(snf):
    print(f"implementation: {snf.__name__}\n")

    # 1. The data set: 400 points of two classes, one example per column.
    X, Y = datasets.load_planar_dataset()
    print(f"X: shape {X.shape}, Y: shape {Y.shape}, {Y.shape[1]} training examples")

    # 2. The network's structure: n_x inputs, n_h hidden units, n_y outputs.
    n_x, n_h, n_y = snf.layer_sizes(X, Y, n_h=4)
    print(f"layer sizes: n_x = {n_x}, n_h = {n_h}, n_y = {n_y}")

    # 3. Small random weights (randn * 0.01), zero biases.
    parameters = snf.initialize_parameters(n_x, n_h, n_y, seed=2)
    for name, value in parameters.items():
        print(f"{name}: shape {value.shape}")

    # 4. Forward propagation: Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = sigmoid(Z2).
    A2, cache = snf.forward_propagation(X, parameters)
    print(
        f"forward: mean of Z1 {np.mean(cache['Z1']):+.6f}, A1 {np.mean(cache['A1']):+.6f}, "
        f"Z2 {np.mean(cache['Z2']):+.6f}, A2 {np.mean(cache['A2']):.6f}"
    )

    # 5. The cross-entropy cost.
    print(f"cost = {snf.compute_cost(A2, Y):.6f}  (log 2 = {np.log(2):.6f}: the untrained network guesses)")

    # 6. Backward propagation: the gradients of the cost.
    grads = snf.backward_propagation(parameters, cache, X, Y)
    for name, value in grads.items():
        print(f"{name}: shape {value.shape}, norm {np.linalg.norm(value):.3e}")

    # 7. One gradient-descent step.
    updated = snf.update_parameters(parameters, grads, learning_rate=1.2)
    A2_after, _ = snf.forward_propagation(X, updated)
    print(f"after one update: cost = {snf.compute_cost(A2_after, Y):.6f}")

    # 8. The whole model: 10 000 iterations of gradient descent.
    start = time.perf_counter()
    parameters = snf.nn_model(X, Y, n_h=4, num_iterations=10000, learning_rate=1.2, seed=3, print_cost=True)
    print(f"trained in {time.perf_counter() - start:.2f} s")

    # 9. Predictions (A2 > 0.5) and accuracy.
    predictions = snf.predict(parameters, X)
    print(f"accuracy: {float(np.mean(predictions == Y)):.2%}  (logistic regression reaches about 47%)")

    # 10. Tuning the hidden layer's size.
    print("\nhidden units | accuracy (5000 iterations)")
    for size in (1, 2, 3, 4, 5, 20, 50):
        params = snf.nn_model(X, Y, n_h=size, num_iterations=5000, learning_rate=1.2, seed=3)
        accuracy = float(np.mean(snf.predict(params, X) == Y))
        print(f"{size:12d} | {accuracy:.2%}")
    print("\nLarger models fit the training set better, until the largest ones start to overfit it.")


if __name__ == "__main__":
    main(reference if "--reference" in sys.argv[1:] else fast)
