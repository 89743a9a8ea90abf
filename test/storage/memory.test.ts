/**
 * The tests' in-process store keeps the same contract as the real backends: a fake that drifted
 * from them would let the tests that use it pass against behaviour no destination has.
 */
import { MemoryStorage } from '../helpers/memory-storage.js';
import { runStorageContract } from './contract.js';

runStorageContract('memory', async () => {
  const storage = new MemoryStorage('memory://contract');
  return {
    storage,
    corrupt: async (key) => {
      const o = storage.objects.get(key);
      if (!o) throw new Error(`no object ${key} to corrupt`);
      o.data[0] = (o.data[0] ?? 0) ^ 0x01;
    },
  };
});
