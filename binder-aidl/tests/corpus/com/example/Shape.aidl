package com.example;

/** One shape at a time. */
@JavaDerive(toString=true)
union Shape {
    const int UNIT = 1;
    int circle = UNIT;
    @utf8InCpp String named;
    float[] polygon;
    Pair<int, int> point;
}
