package com.acme.types;

parcelable Shape {
    enum Kind { CIRCLE, SQUARE, }
    Kind kind = Kind.CIRCLE;
    Point origin;
}
