package com.example.legacy;

/** A parcelable written by hand in each language. */
@JavaOnlyStableParcelable
parcelable Legacy cpp_header "legacy/Legacy.h" ndk_header "aidl/legacy/Legacy.h" rust_type "legacy::Legacy";

parcelable JavaOnly;

parcelable Outer.Inner;

parcelable Holder<T> rust_type "crate::Holder";

interface IForward;
