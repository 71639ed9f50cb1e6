package com.example;

import com.example.Color;

/** A gadget. */
@JavaDerive(equals=true, toString=true)
@RustDerive(Clone=true, PartialEq=true)
parcelable Gadget {
    /** Doc for a constant. */
    const int MAX_PARTS = 8;

    /** The gadget's name. */
    @utf8InCpp String name = "unnamed";
    boolean shiny = true;
    byte flags = 0x7f;
    char letter = 'G';
    int count = -1;
    long serial = 0xFFFFFFFFFFL;
    float weight = 1.5f;
    double price = 2.5e3;
    Color color = Color.RED;
    int[] sizes = {1, 2, 3,};
    String[] tags = {};
    byte[2][3] grid = {{1, 2, 3}, {4, 5, 6}};
    @nullable Gadget child;
    @nullable(heap=true) Gadget boxed;
    int[MAX_PARTS] parts;

    @Backing(type="byte")
    enum Kind { SMALL, LARGE }
}
