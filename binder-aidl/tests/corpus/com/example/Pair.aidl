package com.example;

/** Two values. */
parcelable Pair<A, B> {
    A first;
    B second;
    List<Pair<A, B>> nested;
}
