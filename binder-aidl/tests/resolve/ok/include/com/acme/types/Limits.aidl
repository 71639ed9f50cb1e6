package com.acme.types;

interface Limits {
    const int MAX = 100;
    const int MIN = -MAX;
}
