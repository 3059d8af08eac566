r"""Customer segmentation by clustering recency, frequency and monetary value.

Pure functions (no dbt, no duckdb). The dbt Python model
``int_customers_clustered`` reads the mart ``fct_customer_rfm``, calls
:func:`cluster_customers` and returns ``result.assignments``.

Pipeline
--------
1. Check the input (required columns, unique non-null ``customer_id``, numeric
   and finite features) and sort it by ``customer_id``, so that nothing random
   depends on the input row order.
2. :func:`prepare_features`: clip negatives to 0 and ``log1p`` (default), drop
   constant features, standardize (default).
3. Fit ``kmeans`` (default) or ``hierarchical`` (Ward) for a fixed ``k`` or for
   every ``k`` in ``k_min..k_max`` (``k="auto"``), scoring each on one seeded
   sample with silhouette, Davies-Bouldin and Calinski-Harabasz, and keep the
   ``k`` with the highest silhouette (:func:`select_k`).
4. Number clusters ``1..k`` by ascending value score (``1`` = lowest value) and
   name them from their recency and value relative to the whole population.

Scaling to a million customers
------------------------------
* ``kmeans`` fits scikit-learn ``KMeans`` (k-means++, Lloyd, ``n_init`` runs)
  on a seeded sample of ``kmeans_sample_size`` rows (default 100,000; ``None``
  fits on all rows), then assigns every customer to its nearest centre in
  chunks. On 1,000,000 RFM-like customers the sample fit's inertia was within
  0.1 % of a full fit (k = 5 and 10) in a fraction of the time
  (:func:`cluster_customers` with ``k=5``: 2.8 s against 8.6 s; ``k="auto"``
  over 2..10: 13.5 s against 56 s); ``MiniBatchKMeans`` on all rows had about
  5 % higher inertia and was slower than the sample fit.
* ``hierarchical`` needs the condensed distance matrix, which scipy's Ward
  linkage holds twice (about :math:`8\,s^2` bytes, 0.8 GB at
  :math:`s = 10{,}000`), so it runs on a seeded sample of ``sample_size`` rows
  and every other customer goes to the nearest cluster centroid (mean of the
  sample members).
* Silhouette is quadratic in time, so all three quality scores are computed
  on a seeded sample of ``sample_size`` rows, with scikit-learn's
  ``working_memory`` capped at 64 MB.
* Measured with the defaults on 1,000,000 customers (2 shared vCPUs, one
  thread, three runs each): ``kmeans`` with ``k=5`` 2.8-4.2 s and ``k="auto"``
  13.5-22 s, peak RSS of the whole process 0.52-0.57 GB (0.35 GB before the
  call: interpreter, libraries, input); ``hierarchical`` 5.8-11.5 s and
  14-21 s, peak RSS 1.17-1.25 GB.

Value score (cluster order)
---------------------------
Every customer gets profile z-scores, whatever ``features``, ``transform`` and
``scaling`` were used for clustering, so that ids and names mean the same in
every configuration:

.. math::

    z^{X}_i = \frac{\log\bigl(1 + \max(x_i, 0)\bigr) - \mu_X}{\sigma_X},
    \qquad X \in \{R, F, M\}

with :math:`\mu_X` and :math:`\sigma_X` (``ddof=0``) taken over all customers
(:math:`z^X_i = 0` when :math:`\sigma_X = 0`), :math:`R` = ``recency_days``,
:math:`F` = ``frequency`` and :math:`M` = ``monetary``. A cluster :math:`c`
with mean z-scores :math:`\bar z^X_c` has

.. math::

    \mathrm{score}_c = \tfrac{1}{3}\bigl(-\bar z^{R}_c + \bar z^{F}_c
    + \bar z^{M}_c\bigr).

Cluster ids ``1..k`` follow ascending score; scores equal to 12 decimal places
are tied and the tie goes to the cluster holding the smallest ``customer_id``.

Naming rule
-----------
With :math:`T = 0.5` (population standard deviations) and past value
:math:`v_c = (\bar z^{F}_c + \bar z^{M}_c)/2`, recency is *recent* if
:math:`\bar z^R_c \le -T`, *lapsing* if :math:`\bar z^R_c \ge T`, else
*average*; value is *high* if :math:`v_c \ge T`, *low* if :math:`v_c \le -T`,
else *mid*:

=========  ==========  ===========  ============
value      recent      average      lapsing
=========  ==========  ===========  ============
high       VIP         Loyal        At risk
mid        Promising   Mid-value    Hibernating
low        New         Low-value    Lapsed
=========  ==========  ===========  ============

If several clusters get the same name, the one with the smallest
``cluster_id`` keeps it and the others get `` 2``, `` 3``, ... in
``cluster_id`` order (e.g. ``Mid-value``, ``Mid-value 2``).

Bad input
---------
* Missing required columns, null or duplicated ``customer_id``, non-numeric,
  missing (NaN/NA) or infinite feature values: :class:`ClusteringError`
  naming the column(s) and the count. Nothing is imputed (the upstream SQL
  never produces them).
* Fewer than 2 customers, or fewer than 2 distinct feature vectors:
  :class:`TooFewCustomersError` (a :class:`ClusteringError`). The dbt
  models call :func:`choose_k_table` and :func:`cluster_with_chosen_k`
  (module ``tables``), which record it (``clustering_status``
  ``not_clustered``, no assignments) instead of raising.
* A constant feature (after the transform): dropped with a
  :class:`ClusteringWarning`. All features constant means a single distinct
  point, hence :class:`ClusteringError`.
* ``k`` larger than the number of distinct feature vectors: ``k`` is reduced
  to that number with a :class:`ClusteringWarning` (for ``"auto"``, ``k_max``
  is reduced). Every warning is also kept in ``ClusteringResult.warnings``.

Determinism
-----------
The same data, parameters and ``random_seed`` give the same output whatever
the input row order: rows are sorted by ``customer_id`` first, samples come
from ``numpy.random.default_rng`` seeded with ``random_seed``, and ``KMeans``
gets ``random_state=random_seed``. Fitting and scoring run on one OpenMP/BLAS
thread, so floating-point sums, hence results, do not depend on the machine's
core count (same library versions assumed).

References
----------
.. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Probus (RFM).
.. [2] Lloyd, S. P. (1982). "Least squares quantization in PCM". IEEE
   Transactions on Information Theory 28(2), 129-137.
.. [3] Arthur, D. & Vassilvitskii, S. (2007). "k-means++: the advantages of
   careful seeding". Proceedings of SODA 2007, 1027-1035.
.. [4] Ward, J. H. (1963). "Hierarchical grouping to optimize an objective
   function". JASA 58(301), 236-244.
.. [5] Müllner, D. (2011). "Modern hierarchical, agglomerative clustering
   algorithms". arXiv:1109.2378.
.. [6] Rousseeuw, P. J. (1987). "Silhouettes: a graphical aid to the
   interpretation and validation of cluster analysis". Journal of
   Computational and Applied Mathematics 20, 53-65.
.. [7] Davies, D. L. & Bouldin, D. W. (1979). "A cluster separation measure".
   IEEE TPAMI 1(2), 224-227.
.. [8] Caliński, T. & Harabasz, J. (1974). "A dendrite method for cluster
   analysis". Communications in Statistics 3(1), 1-27.

Modules
-------
``features`` (warehouse names, input checks, :func:`prepare_features`),
``fit`` (K-Means and Ward fits, nearest-centre assignment), ``quality``
(silhouette, Davies-Bouldin, Calinski-Harabasz, the choice of ``k``),
``profiles`` (ids by value score, names, profiles), ``api``
(:func:`cluster_customers`, :func:`choose_k`, :func:`select_k`) and
``tables`` (what the dbt models return: :func:`choose_k_table`,
:func:`cluster_with_chosen_k`).
"""

from python_udfs._imports import import_serially

# scikit-learn and scipy first, one thread at a time (see python_udfs._imports).
import_serially("sklearn.cluster", "sklearn.metrics", "scipy.cluster.hierarchy")

from python_udfs.clustering.api import (  # noqa: E402
    ClusteringResult,
    choose_k,
    cluster_customers,
    select_k,
)
from python_udfs.clustering.features import (  # noqa: E402
    CUSTOMER_ID,
    FEATURE_COLUMNS,
    METHODS,
    SCALINGS,
    TRANSFORMS,
    ClusteringError,
    ClusteringWarning,
    TooFewCustomersError,
    input_columns,
    parse_features,
    prepare_features,
)
from python_udfs.clustering.tables import (  # noqa: E402
    CLUSTERING_STATUSES,
    choose_k_table,
    cluster_with_chosen_k,
)

__all__ = [
    "CLUSTERING_STATUSES",
    "CUSTOMER_ID",
    "FEATURE_COLUMNS",
    "METHODS",
    "SCALINGS",
    "TRANSFORMS",
    "ClusteringError",
    "ClusteringResult",
    "ClusteringWarning",
    "TooFewCustomersError",
    "choose_k",
    "choose_k_table",
    "input_columns",
    "parse_features",
    "cluster_customers",
    "cluster_with_chosen_k",
    "prepare_features",
    "select_k",
]
