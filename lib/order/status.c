/* The public vocabulary: statuses, rights and service types (include/delivery/order.h). */
#include "common/internal.h"
#include "delivery/order.h"

#include <string.h>

static const struct {
    const char *name;
    const char *russian;
    int coarse;
} statuses[DLV_STATUS_COUNT] = {
    [DLV_STATUS_UNCONFIRMED] = {"Unconfirmed", "Не подтверждена", 0},
    [DLV_STATUS_WAIT_COOKING] = {"WaitCooking", "Ожидает", 1},
    [DLV_STATUS_READY_FOR_COOKING] = {"ReadyForCooking", "Пора готовить", 1},
    [DLV_STATUS_COOKING_STARTED] = {"CookingStarted", "Готовится", 1},
    [DLV_STATUS_COOKING_COMPLETED] = {"CookingCompleted", "Приготовлена", 1},
    [DLV_STATUS_WAITING] = {"Waiting", "Ждёт отправки", 2},
    [DLV_STATUS_ON_WAY] = {"OnWay", "В пути", 3},
    [DLV_STATUS_DELIVERED] = {"Delivered", "Доставлена", 5},
    [DLV_STATUS_CLOSED] = {"Closed", "Закрыта", 4},
    [DLV_STATUS_CANCELLED] = {"Cancelled", "Отменена", -1},
};

static bool status_valid(dlv_status status)
{
    return (unsigned)status < DLV_STATUS_COUNT;
}

const char *dlv_status_name(dlv_status status)
{
    return status_valid(status) ? statuses[status].name : NULL;
}

int dlv_status_from_name(const char *name, dlv_status *out)
{
    if (!name || !out)
        return DLV_EINVAL;
    for (int i = 0; i < DLV_STATUS_COUNT; i++) {
        if (strcmp(name, statuses[i].name) == 0) {
            *out = (dlv_status)i;
            return DLV_OK;
        }
    }
    return DLV_EINVAL;
}

const char *dlv_status_russian_name(dlv_status status)
{
    return status_valid(status) ? statuses[status].russian : NULL;
}

int dlv_status_coarse_code(dlv_status status)
{
    return status_valid(status) ? statuses[status].coarse : -1;
}

int dlv_status_is_final(dlv_status status)
{
    return status == DLV_STATUS_CLOSED || status == DLV_STATUS_CANCELLED;
}

static const struct {
    dlv_right flag;
    const char *name;
} rights[] = {
    {DLV_RIGHT_D_CND, "D_CND"},   {DLV_RIGHT_D_MD, "D_MD"},       {DLV_RIGHT_D_CD, "D_CD"},
    {DLV_RIGHT_D_CAD, "D_CAD"},   {DLV_RIGHT_D_DEP, "D_DEP"},     {DLV_RIGHT_D_ED, "D_ED"},
    {DLV_RIGHT_D_DCO, "D_DCO"},   {DLV_RIGHT_D_ACDMM, "D_ACDMM"}, {DLV_RIGHT_D_SADT, "D_SADT"},
    {DLV_RIGHT_F_CASH, "F_CASH"}, {DLV_RIGHT_F_PA, "F_PA"},
};

const char *dlv_right_name(dlv_right right)
{
    for (size_t i = 0; i < DLV__ARRAY_SIZE(rights); i++)
        if (rights[i].flag == right)
            return rights[i].name;
    return NULL;
}

dlv_right dlv_right_from_name(const char *name)
{
    for (size_t i = 0; name && i < DLV__ARRAY_SIZE(rights); i++)
        if (strcmp(rights[i].name, name) == 0)
            return rights[i].flag;
    return (dlv_right)0;
}

int dlv_rights_parse(const char *list, dlv_rights *out)
{
    if (!list || !out)
        return DLV_EINVAL;
    dlv_rights set = 0;
    const char *p = list;
    while (*p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        for (size_t i = 0; i < DLV__ARRAY_SIZE(rights); i++)
            if (strlen(rights[i].name) == n && memcmp(rights[i].name, p, n) == 0)
                set |= rights[i].flag;
        p += n;
    }
    *out = set;
    return DLV_OK;
}

size_t dlv_rights_format(dlv_rights set, char *buf, size_t size)
{
    char full[128]; /* every name with its comma fits */
    size_t len = 0;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(rights); i++) {
        if (set & rights[i].flag) {
            size_t n = strlen(rights[i].name);
            if (len)
                full[len++] = ',';
            memcpy(full + len, rights[i].name, n);
            len += n;
        }
    }
    if (buf && size) {
        size_t copy = len < size ? len : size - 1;
        memcpy(buf, full, copy);
        buf[copy] = '\0';
    }
    return len;
}

static const char *const service_names[] = {"DeliveryByCourier", "DeliveryByClient"};

const char *dlv_service_type_name(dlv_service_type type)
{
    return (unsigned)type < DLV__ARRAY_SIZE(service_names) ? service_names[type] : NULL;
}

int dlv_service_type_from_name(const char *name, dlv_service_type *out)
{
    if (!name || !out)
        return DLV_EINVAL;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(service_names); i++) {
        if (strcmp(name, service_names[i]) == 0) {
            *out = (dlv_service_type)i;
            return DLV_OK;
        }
    }
    return DLV_EINVAL;
}
