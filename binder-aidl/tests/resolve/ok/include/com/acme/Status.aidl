package com.acme;

import com.acme.types.Color;

@Backing(type="long")
enum Status {
    OK,
    FAILED = Color.WHITE * 1000000000000L,
    RETRY,
}
