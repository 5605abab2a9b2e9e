/* kankyo-register-bank.c: register tables a simulated device serves.
 *
 * The physics thread and the server thread meet here and nowhere else, so a
 * single mutex is enough; both hold it only for copies, never across I/O.
 */
#include "kankyo-register-bank.h"

#define MAX_TABLE 65536

struct _KankyoRegisterBank
{
  gatomicrefcount ref_count;
  GMutex mutex;
  guint8 *bits[2]; /* coils, discrete inputs */
  guint n_bits[2];
  guint16 *registers[2]; /* holding, input */
  guint n_registers[2];
  guint64 write_serial;
  KankyoServerFaults faults;
};

KankyoRegisterBank *
kankyo_register_bank_new (guint n_coils,
                          guint n_discrete_inputs,
                          guint n_holding_registers,
                          guint n_input_registers)
{
  KankyoRegisterBank *bank = g_new0 (KankyoRegisterBank, 1);

  g_atomic_ref_count_init (&bank->ref_count);
  g_mutex_init (&bank->mutex);
  bank->n_bits[0] = MIN (n_coils, MAX_TABLE);
  bank->n_bits[1] = MIN (n_discrete_inputs, MAX_TABLE);
  bank->n_registers[0] = MIN (n_holding_registers, MAX_TABLE);
  bank->n_registers[1] = MIN (n_input_registers, MAX_TABLE);
  for (guint i = 0; i < 2; i++)
    {
      bank->bits[i] = bank->n_bits[i] ? g_new0 (guint8, bank->n_bits[i]) : NULL;
      bank->registers[i] = bank->n_registers[i] ? g_new0 (guint16, bank->n_registers[i]) : NULL;
    }
  return bank;
}

KankyoRegisterBank *
kankyo_register_bank_ref (KankyoRegisterBank *bank)
{
  g_atomic_ref_count_inc (&bank->ref_count);
  return bank;
}

void
kankyo_register_bank_unref (KankyoRegisterBank *bank)
{
  if (bank == NULL || !g_atomic_ref_count_dec (&bank->ref_count))
    return;
  for (guint i = 0; i < 2; i++)
    {
      g_free (bank->bits[i]);
      g_free (bank->registers[i]);
    }
  g_mutex_clear (&bank->mutex);
  g_free (bank);
}

void
kankyo_register_bank_lock (KankyoRegisterBank *bank)
{
  g_mutex_lock (&bank->mutex);
}

void
kankyo_register_bank_unlock (KankyoRegisterBank *bank)
{
  g_mutex_unlock (&bank->mutex);
}

guint8 *
kankyo_register_bank_bits (KankyoRegisterBank *bank, KankyoArea area, guint *ret_count)
{
  guint i;

  switch (area)
    {
      case KANKYO_AREA_COIL:
        i = 0;
        break;
      case KANKYO_AREA_DISCRETE_INPUT:
        i = 1;
        break;
      default:
        *ret_count = 0;
        return NULL;
    }
  *ret_count = bank->n_bits[i];
  return bank->bits[i];
}

guint16 *
kankyo_register_bank_registers (KankyoRegisterBank *bank, KankyoArea area, guint *ret_count)
{
  guint i;

  switch (area)
    {
      case KANKYO_AREA_HOLDING_REGISTER:
        i = 0;
        break;
      case KANKYO_AREA_INPUT_REGISTER:
        i = 1;
        break;
      default:
        *ret_count = 0;
        return NULL;
    }
  *ret_count = bank->n_registers[i];
  return bank->registers[i];
}

void
kankyo_register_bank_note_client_write (KankyoRegisterBank *bank)
{
  bank->write_serial++;
}

guint64
kankyo_register_bank_get_write_serial (KankyoRegisterBank *bank)
{
  return bank->write_serial;
}

void
kankyo_register_bank_set_faults (KankyoRegisterBank *bank, const KankyoServerFaults *faults)
{
  g_mutex_lock (&bank->mutex);
  bank->faults = *faults;
  g_mutex_unlock (&bank->mutex);
}

void
kankyo_register_bank_get_faults (KankyoRegisterBank *bank, KankyoServerFaults *ret_faults)
{
  g_mutex_lock (&bank->mutex);
  *ret_faults = bank->faults;
  g_mutex_unlock (&bank->mutex);
}
