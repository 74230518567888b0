/* libdelivery release number. CMake reads the three numbers from this file. */
#ifndef DELIVERY_VERSION_H
#define DELIVERY_VERSION_H

#define DLV_VERSION_MAJOR 0
#define DLV_VERSION_MINOR 1
#define DLV_VERSION_PATCH 0

/* 0xMMmmpp: compare with >= in preprocessor checks. */
#define DLV_VERSION_HEX ((DLV_VERSION_MAJOR << 16) | (DLV_VERSION_MINOR << 8) | DLV_VERSION_PATCH)

/* ABI major of libdelivery.so (its SOVERSION); bumped only on incompatible changes. */
#define DLV_ABI_VERSION 1

#endif
