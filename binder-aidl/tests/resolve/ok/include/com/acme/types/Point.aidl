package com.acme.types;

parcelable Point {
    int x;
    int y;
}
