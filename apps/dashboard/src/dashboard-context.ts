/**
 * What every page needs from the logged-in session: the API client, what the session may do
 * (`canAct`: a full key; read-only sessions see no action buttons) and whether this server has the
 * revoke method (`canRevoke`: `/api/revoke` is in its OpenAPI document).
 */
import { createContext, useContext } from 'react'
import type { ApiClient } from './api.js'
import type { Access } from './api-types.js'

export interface DashboardContext {
  api: ApiClient
  access: Access
  canAct: boolean
  canRevoke: boolean
}

export const Dashboard = createContext<DashboardContext | undefined>(undefined)

export function useDashboard(): DashboardContext {
  const context = useContext(Dashboard)
  if (!context) throw new Error('useDashboard outside a logged-in dashboard')
  return context
}
