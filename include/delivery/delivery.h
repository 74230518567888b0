/* libdelivery: the terminal-side delivery plugin for restaurant POS front terminals.
 * This umbrella header includes the whole public contract. */
#ifndef DELIVERY_DELIVERY_H
#define DELIVERY_DELIVERY_H

#include "common.h"
#include "errors.h"
#include "version.h"
#include "config.h"

#endif
