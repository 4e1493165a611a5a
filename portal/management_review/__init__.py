"""Management review (管理评审, QP0101): planned, its inputs computed from the period's data,
held (inputs frozen with a SHA-256), outputs tracked, approved by its chair."""
