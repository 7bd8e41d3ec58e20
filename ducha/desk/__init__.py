"""The web desk (督查工作台): ``ducha serve``. Routes are thin shells over the ``ducha`` services."""
